process SPLAMFLOW_CLEAN {
    tag "${meta.id}"
    label 'process_low'
    // Sized by the input (a process_low selector of the pipeline that installs this module takes
    // precedence; splamflow's conf/base.config sets none): 2 CPUs up to 2 GB, 4 up to 20 GB, 8 beyond
    // (worker processes, --threads); memory and time grow with them and double on a retry.
    cpus   { input.size() < 2e9 ? 2 : input.size() < 2e10 ? 4 : 8 }
    memory { (4.GB + 1.GB * task.cpus) * task.attempt }
    time   { (2.h + 1.h * Math.ceil(input.size() / 1e10)) * task.attempt }

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/splamflow/splamflow:0.1.0'

    input:
    tuple val(meta), path(input), path(index), path(scores)
    tuple val(meta2), path(fasta), path(fasta_index)

    output:
    tuple val(meta), path("*.cleaned.bam")           , emit: bam          , optional: true
    tuple val(meta), path("*.cleaned.bam.bai")       , emit: bai          , optional: true
    tuple val(meta), path("*.discarded.bam")         , emit: discarded    , optional: true
    tuple val(meta), path("*.discarded.bam.bai")     , emit: discarded_bai, optional: true
    tuple val(meta), path("*.clean_stats_mqc.tsv")   , emit: mqc          , optional: true
    tuple val(meta), path("*.score_histogram_mqc.json"), emit: score_histogram, optional: true
    tuple val(meta), path("*.cleaned.{gtf,gff3,gff}"), emit: annotation   , optional: true
    tuple val(meta), path("*.transcripts.tsv")       , emit: report       , optional: true
    tuple val(meta), path("*.clean_stats.json")      , emit: stats
    tuple val(meta), path("*.clean.png")             , emit: plot
    tuple val("${task.process}"), val('splamflow'), eval("splam_score.py --version | cut -d ' ' -f 2"), emit: versions_splamflow, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def annotation_ext = (input.name - ~/\.gz$/).tokenize('.').last()
    // the genome gives unstranded records their intron motif's strand (--infer-strand auto, the
    // default, or motif); the CLI refuses --genome with --infer-strand none (in any spelling argparse accepts)
    def genome = fasta && !(args =~ /--infer-strand(=|\s+)none\b/).find() ? "--genome ${fasta}" : ''
    // a CRAM is decoded against the genome it was compressed with: the pipeline's FASTA
    def reference = fasta && input.name.endsWith('.cram') ? "--reference ${fasta}" : ''
    if (annotation_ext in ['gtf', 'gff', 'gff3']) {
        """
        splam_score.py clean \\
            ${input} \\
            --scores ${scores} \\
            -o ${prefix}.cleaned.${annotation_ext} \\
            --report ${prefix}.transcripts.tsv \\
            --stats ${prefix}.clean_stats.json \\
            --plot ${prefix}.clean.png \\
            ${args}
        """
    } else {
        """
        splam_score.py clean \\
            ${input} \\
            --scores ${scores} \\
            -o ${prefix}.cleaned.bam \\
            --discarded ${prefix}.discarded.bam \\
            --threads ${task.cpus} \\
            --stats ${prefix}.clean_stats.json \\
            --stats-tsv ${prefix}.clean_stats_mqc.tsv \\
            --score-histogram ${prefix}.score_histogram_mqc.json \\
            --sample ${prefix} \\
            --plot ${prefix}.clean.png \\
            ${genome} \\
            ${reference} \\
            ${args}
        """
    }

    stub:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def annotation_ext = (input.name - ~/\.gz$/).tokenize('.').last()
    if (annotation_ext in ['gtf', 'gff', 'gff3']) {
        """
        echo "${args}"
        touch ${prefix}.cleaned.${annotation_ext}
        touch ${prefix}.transcripts.tsv
        echo '{}' > ${prefix}.clean_stats.json
        touch ${prefix}.clean.png
        """
    } else {
        """
        echo "${args}"
        touch ${prefix}.cleaned.bam ${prefix}.cleaned.bam.bai
        touch ${prefix}.discarded.bam ${prefix}.discarded.bam.bai
        touch ${prefix}.clean_stats_mqc.tsv ${prefix}.score_histogram_mqc.json
        echo '{}' > ${prefix}.clean_stats.json
        touch ${prefix}.clean.png
        """
    }
}
