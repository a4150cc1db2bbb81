// The resources SPLAMFLOW_EXTRACT and SPLAMFLOW_CLEAN ask for, resolved by Nextflow from their inputs'
// sizes and conf/base.config (stub runs: nothing reads the files). tests/nextflow/test_resources.py.
include { SPLAMFLOW_EXTRACT } from '../../modules/splamflow/splamflow/extract/main'
include { SPLAMFLOW_CLEAN   } from '../../modules/splamflow/splamflow/clean/main'

workflow {
    def bams = channel.fromPath(params.bams.tokenize(',')).map { bam -> [ [ id: bam.baseName ], bam, [] ] }
    def genome = [ [ id: 'none' ], [], [] ]
    SPLAMFLOW_EXTRACT(bams, genome)
    SPLAMFLOW_CLEAN(bams.map { meta, bam, index -> [ meta, bam, index, [] ] }, genome)
}
