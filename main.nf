#!/usr/bin/env nextflow
/*
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    splamflow: score splice junctions with Splam and remove spurious spliced alignments
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
    nextflow run . -profile docker --input samplesheet.csv --fasta genome.fa --outdir results
    nextflow run . -profile docker,gpu --input samplesheet.csv --fasta genome.fa --gtf genes.gtf --outdir results
    nextflow run . --help
    Usage, parameters and outputs: docs/nextflow.md
----------------------------------------------------------------------------------------
*/

include { SPLAMFLOW               } from './workflows/splamflow'
include { PIPELINE_INITIALISATION } from './subworkflows/local/utils_splamflow_pipeline'
include { PIPELINE_COMPLETION     } from './subworkflows/local/utils_splamflow_pipeline'
include { PREPARE_GENOME          } from './subworkflows/local/prepare_genome'

workflow {

    main:
    PIPELINE_INITIALISATION(
        params
    )

    PREPARE_GENOME(
        PIPELINE_INITIALISATION.out.fasta
    )

    SPLAMFLOW(
        PIPELINE_INITIALISATION.out.alignments,
        PIPELINE_INITIALISATION.out.annotation,
        PREPARE_GENOME.out.fasta,
        PIPELINE_INITIALISATION.out.model,
        PIPELINE_INITIALISATION.out.chunk_size
    )

    PIPELINE_COMPLETION(
        params.outdir
    )
}
