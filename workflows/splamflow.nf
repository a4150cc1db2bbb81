/*
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    SPLAMFLOW: extract -> score the cohort once (unite, score per chunk, project) -> clean
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    Alignments (BAMs) and an annotation (GTF/GFF3) go through the same modules under two
    names each (SPLAMFLOW_EXTRACT / SPLAMFLOW_EXTRACT_ANNOTATION, SPLAMFLOW_CLEAN /
    SPLAMFLOW_CLEAN_ANNOTATION), so that conf/modules.config gives each its options by name.

    Scoring is the installable subworkflow BED_SCORE_COHORT_SPLAMFLOW: the junctions of every
    sample and of the annotation are united and scored once (one SPLAMFLOW_SCORE task per
    chunk of at most --score_chunk_size junctions), and each gets its own scores back, byte for
    byte what scoring it alone writes.
----------------------------------------------------------------------------------------
*/

include { SPLAMFLOW_EXTRACT                                 } from '../modules/splamflow/splamflow/extract/main'
include { SPLAMFLOW_EXTRACT as SPLAMFLOW_EXTRACT_ANNOTATION } from '../modules/splamflow/splamflow/extract/main'
include { BED_SCORE_COHORT_SPLAMFLOW                        } from '../subworkflows/splamflow/bed_score_cohort_splamflow/main'
include { SPLAMFLOW_CLEAN                                   } from '../modules/splamflow/splamflow/clean/main'
include { SPLAMFLOW_CLEAN as SPLAMFLOW_CLEAN_ANNOTATION     } from '../modules/splamflow/splamflow/clean/main'
include { MULTIQC                                      } from '../modules/local/multiqc/main'

workflow SPLAMFLOW {

    take:
    ch_alignments  // channel: [ val(meta), path(bam), path(index) or [] ]
    ch_annotation  // channel: [ val(meta), path(gtf), [] ] (empty without --gtf)
    ch_fasta       // channel: [ val(meta2), path(fasta), [ path(fai), path(gzi) ] ]
    ch_model       // channel: [] or [ path(weights), path(json metadata) ]
    chunk_size     // value channel: junctions per scoring task

    main:
    SPLAMFLOW_EXTRACT(ch_alignments, ch_fasta)
    SPLAMFLOW_EXTRACT_ANNOTATION(ch_annotation, ch_fasta)
    ch_junctions = SPLAMFLOW_EXTRACT.out.bed.mix(SPLAMFLOW_EXTRACT_ANNOTATION.out.bed)

    BED_SCORE_COHORT_SPLAMFLOW(ch_junctions, ch_fasta, ch_model, chunk_size)

    ch_merged = BED_SCORE_COHORT_SPLAMFLOW.out.scores
        .branch { meta, _scores ->
            annotation: meta.type == 'annotation'
            alignments: true
        }

    SPLAMFLOW_CLEAN(ch_alignments.join(ch_merged.alignments, failOnDuplicate: true, failOnMismatch: true), ch_fasta)
    SPLAMFLOW_CLEAN_ANNOTATION(ch_annotation.join(ch_merged.annotation, failOnDuplicate: true, failOnMismatch: true), ch_fasta)

    // one MultiQC report: every sample's clean counts and score histogram
    def multiqc_missing = multiqcMissing()
    if (multiqc_missing) {
        log.warn(multiqc_missing)
    }
    if (!params.skip_multiqc.toString().toBoolean() && !multiqc_missing) {
        def ch_multiqc_files = SPLAMFLOW_CLEAN.out.mqc.mix(SPLAMFLOW_CLEAN.out.score_histogram)
            .map { _meta, table -> table }
            .collect()
        def ch_multiqc_config = channel.value(file(params.multiqc_config ?: "${projectDir}/assets/multiqc_config.yml", checkIfExists: true))
        MULTIQC(ch_multiqc_files, ch_multiqc_config)
    }

    junctions   = ch_junctions
    scores      = BED_SCORE_COHORT_SPLAMFLOW.out.scores
    cleaned_bam = SPLAMFLOW_CLEAN.out.bam
    discarded   = SPLAMFLOW_CLEAN.out.discarded
    annotation  = SPLAMFLOW_CLEAN_ANNOTATION.out.annotation
    stats       = SPLAMFLOW_CLEAN.out.stats.mix(SPLAMFLOW_CLEAN_ANNOTATION.out.stats)
    mqc         = SPLAMFLOW_CLEAN.out.mqc

    // emits are bare names assigned above: Nextflow 25.04.0's strict parser drops `name = value` emits
    emit:
    junctions    // channel: [ val(meta), path(junctions.bed) ]
    scores       // channel: [ val(meta), path(scores.bed) ]
    cleaned_bam  // channel: [ val(meta), path(cleaned.bam) ]
    discarded    // channel: [ val(meta), path(discarded.bam) ]
    annotation   // channel: [ val(meta), path(cleaned.gtf) ]
    stats        // channel: [ val(meta), path(clean_stats.json) ]
    mqc          // channel: [ val(meta), path(clean_stats_mqc.tsv) ]
}

/*
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    Functions
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
*/

// Why MultiQC cannot run, or null: where tasks run the software on PATH (no container engine, no
// conda), `pip install splamflow` does not bring MultiQC. PATH is this machine's: on a grid
// executor the nodes are taken to share it. Nothing to say with --skip_multiqc.
def multiqcMissing() {
    if (params.skip_multiqc.toString().toBoolean()) {
        return null
    }
    def conda = workflow.session.config.navigate('conda.enabled')
    if (workflow.containerEngine || conda.toString().toBoolean()) {
        return null
    }
    def on_path = (System.getenv('PATH') ?: '').tokenize(File.pathSeparator).any { dir -> new File(dir, 'multiqc').canExecute() }
    return on_path ? null : 'splamflow: no multiqc on PATH (install it: pip install multiqc==1.35, or use a container profile): the MultiQC report is skipped'
}
